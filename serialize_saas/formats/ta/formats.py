# Tamil as read in Malaysia and Singapore (CLDR ta_MY, ta_SG): thousands grouped by three ("100,000"; Django's
# module sets no grouping at all), Django's day ("4 டிசம்பர், 2026"), a 24-hour moment.
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
DATETIME_FORMAT = "j F, Y, H:i"
SHORT_DATETIME_FORMAT = "j M, Y H:i"
TIME_FORMAT = "H:i"
