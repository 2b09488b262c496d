"""Document readers (md, txt, html, pdf, docx) and chunkers (law articles, markdown headings)."""
