# Simplified Chinese: Django's dates ("2026年12月4日"), but counts grouped by thousands with commas, as CLDR's
# zh locale and Malaysian Chinese readers write them ("100,000"), not Django's ungrouped "100000".
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
