"""Pages of the registry, split by who uses them: ``guarantees`` (every role, and the principal's own
actions), ``bank`` (maker and checker), ``customs`` and ``secretariat``. Each view parses input, calls one
service and renders; ``common`` holds the checks they share."""
