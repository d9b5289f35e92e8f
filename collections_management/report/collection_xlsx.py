"""One finish for the collections Excel exports: a title, the company and the as-of date above
a frozen header row with an autofilter, and number formats per column."""

import io

import xlsxwriter

# Column kinds and their Excel number formats.
NUMBER_FORMATS = {
    "text": None,
    "date": "yyyy-mm-dd",
    "money": "#,##0.00",
    "days": "#,##0.0",
    "percent": "0.0%",
    "integer": "#,##0",
}


class CollectionWorkbook:
    """An in-memory .xlsx workbook whose sheets share the same layout."""

    def __init__(self):
        self.output = io.BytesIO()
        self.workbook = xlsxwriter.Workbook(self.output, {"in_memory": True, "remove_timezone": True})
        self.formats = {
            kind: self.workbook.add_format({"num_format": number_format}) if number_format else None
            for kind, number_format in NUMBER_FORMATS.items()
        }
        self.title_format = self.workbook.add_format({"bold": True, "font_size": 14})
        self.header_format = self.workbook.add_format(
            {"bold": True, "bg_color": "#DDE5F0", "bottom": 1, "text_wrap": True, "valign": "top"}
        )
        self.total_formats = {
            kind: self.workbook.add_format({"bold": True, "top": 1, **({"num_format": fmt} if fmt else {})})
            for kind, fmt in NUMBER_FORMATS.items()
        }

    def add_sheet(self, name, title, subtitle, columns, rows, totals=None):
        """A sheet: ``columns`` is [(header, kind, width)], ``rows`` lists of values (percentages
        as fractions), ``totals`` an optional last row (None where no total)."""
        sheet = self.workbook.add_worksheet(name[:31])
        sheet.write(0, 0, title, self.title_format)
        sheet.write(1, 0, subtitle)
        header_row = 3
        for column, (header, kind, width) in enumerate(columns):
            sheet.set_column(column, column, width, self.formats[kind])
            sheet.write(header_row, column, header, self.header_format)
        for index, row in enumerate(rows, start=header_row + 1):
            for column, value in enumerate(row):
                kind = columns[column][1]
                if value is None or value is False:
                    sheet.write_blank(index, column, None, self.formats[kind])
                elif kind == "date":
                    sheet.write_datetime(index, column, value, self.formats[kind])
                else:
                    sheet.write(index, column, value, self.formats[kind])
        last_row = header_row + len(rows)
        sheet.freeze_panes(header_row + 1, 1)
        sheet.autofilter(header_row, 0, max(last_row, header_row), len(columns) - 1)
        if totals:
            for column, value in enumerate(totals):
                if value is not None:
                    sheet.write(last_row + 1, column, value, self.total_formats[columns[column][1]])
        return sheet

    def close(self):
        self.workbook.close()
        return self.output.getvalue()
