"""Reports of a verdicts file: one self-contained HTML page and a Markdown twin.

Reports only read what ``repro verify`` wrote (``results/claims/<registry>/<profile>/verdicts.json``);
they never re-run a check. Everything that came from a paper or a check is untrusted text and is
escaped on the way out.
"""
