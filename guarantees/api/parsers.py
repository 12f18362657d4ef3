"""The API's JSON parser: DRF's, except that a document nested too deep to read is a 400 ``parse_error``.

Python's ``json`` raises ``RecursionError`` (not ``ValueError``, which DRF turns into a 400) on a few thousand
nested brackets: a one-line body would otherwise be a 500.
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - the document is nested too deeply") from exc
