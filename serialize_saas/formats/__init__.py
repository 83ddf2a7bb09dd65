"""Per-language date and number formats (FORMAT_MODULE_PATH), where Django's own do not suit our readers.

Only what differs is set here; everything else falls through to Django's module for the language. Pages
format dates with the `date` filter and these names (DATE_FORMAT for a day, DATETIME_FORMAT for a moment),
and counts with humanize's `intcomma`, which groups digits by THOUSAND_SEPARATOR and NUMBER_GROUPING."""
