"""The BentoML service that scores transactions online (see bento/README.md)."""
