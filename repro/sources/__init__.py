"""Source documents of claims: PDFs, Markdown/text files and arXiv papers as structured documents."""
