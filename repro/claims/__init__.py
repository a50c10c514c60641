"""Claims: the registry format, verification of claims, and drafting claims from papers."""
