"""Spreadsheet cells a spreadsheet program would run as a formula (OWASP's CSV injection):
the exports escape them with an apostrophe, the import reads the escaped form back as text
and refuses the unescaped one."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: str) -> str:
    """Prefix a cell a spreadsheet would run as a formula with an apostrophe."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def unescape_cell(value: str) -> str:
    """The inverse of ``escape_cell``: "'=x" is the text "=x"; any other cell is itself."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value
