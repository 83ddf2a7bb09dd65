# Bahasa Melayu: Django's "4 Dis 2026" for a day, with the 24-hour clock Malaysia writes ("4 Dis 2026, 16:05").
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j M"  # "4 Dis": short enough for a chart's axis
