"""English: one date and one date-time format on the pages, in e-mails and in PDFs.

"6 Dec 2026" reads the same to every English reader (no 12/06 or 06/12 to guess) and
"6 Dec 2026, 14:30" adds the time on a 24-hour clock in the portal's TIME_ZONE. The
SHORT_* variants are the same, so a table and a sentence never disagree. The input
formats are Django's (a date field still takes YYYY-MM-DD first).
"""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
