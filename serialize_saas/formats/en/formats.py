# English as read in Malaysia and Singapore (en-GB style): "4 Dec 2026", "4 Dec 2026, 16:05".
DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
MONTH_DAY_FORMAT = "j M"  # "4 Dec": short enough for a chart's axis
TIME_FORMAT = "H:i"
