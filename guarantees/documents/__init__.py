"""The attestation de caution unique: rendering (``renderer``), the registry's PAdES signature (``signing``),
amounts in words (``words``) and the self-signed development key (``devcert``).

One idea holds it together: a certificate is a PDF rendered once per version and language, signed by the
registry, stored with its SHA-256 and never changed; anyone can check it later against the register.
Storing, access and the public verification live in ``guarantees.services.certificates``.
"""
