"""The GraphQL shape of her record sheet (``gateway.records.sheet``): one column per language,
every text already worded and formatted for it."""

from __future__ import annotations

import strawberry

from gateway.records.sheet import Column


@strawberry.type(description="A page's own word, by the key the page finds it under")
class SheetLabel:
    key: str = strawberry.field(description="eyebrow, member_id, printed, verify, scan …")
    text: str = strawberry.field(description="the word in the column's language")


@strawberry.type(description="One line of the summary above the tables")
class SheetLine:
    label: str = strawberry.field(description="what it counts")
    value: str = strawberry.field(description="the count, formatted")


@strawberry.type(description="One cell, as it reads")
class SheetCell:
    text: str = strawberry.field(description="the text, worded and formatted")
    language: str | None = strawberry.field(
        description="the text's own language when it is not the column's (a course titled "
                    "in no language of the column: show it marked); null otherwise")
    note: str | None = strawberry.field(
        description="then, the mark to show after it, in the column's words ((in Spanish))")


@strawberry.type(description="One row of a table")
class SheetRow:
    cells: list[SheetCell] = strawberry.field(description="its cells, one per column")


@strawberry.type(description="One heading of a table")
class SheetHeader:
    text: str = strawberry.field(description="the column's heading")
    numeric: bool = strawberry.field(description="its cells are numbers (aligned to the end)")


@strawberry.type(description="One part of her record as a table")
class SheetTable:
    key: str = strawberry.field(description="memberships, savings, loans, remittances, "
                                            "certificates, assemblies or work")
    heading: str = strawberry.field(description="its heading")
    columns: list[SheetHeader] = strawberry.field(description="its column headings")
    rows: list[SheetRow] = strawberry.field(description="its rows, in the record's order")
    empty: str = strawberry.field(description="what to show when it has no row")


@strawberry.type(description="Her record in one language: every label from the message "
                             "catalogues, every day, amount and number formatted for its "
                             "locale (CLDR, by Babel)")
class SheetColumn:
    language: str = strawberry.field(description="its BCP 47 tag (es-EC): the page's lang")
    direction: str = strawberry.field(description="ltr or rtl: the page's dir")
    catalogue: str = strawberry.field(
        description="the catalogue its words come from (es for es-EC; en when there is none "
                    "for the language)")
    labels: list[SheetLabel] = strawberry.field(description="the page's own words")
    glance: list[SheetLine] = strawberry.field(description="her record at a glance")
    tables: list[SheetTable] = strawberry.field(description="her record, part by part")

    @staticmethod
    def of(column: Column) -> SheetColumn:
        return SheetColumn(
            language=column.language, direction=column.direction, catalogue=column.catalogue,
            labels=[SheetLabel(key=k, text=v) for k, v in column.labels.items()],
            glance=[SheetLine(label=label, value=value) for label, value in column.glance],
            tables=[SheetTable(
                key=t.key, heading=t.heading, empty=t.empty,
                columns=[SheetHeader(text=text, numeric=numeric)
                         for text, numeric in zip(t.columns, t.numeric, strict=True)],
                rows=[SheetRow(cells=[SheetCell(text=c.text, language=c.language, note=c.note)
                                      for c in row]) for row in t.rows])
                for t in column.tables])
