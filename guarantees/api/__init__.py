"""The interconnection API (``/api/v1/``): the contract customs systems code against (see API.md)."""
