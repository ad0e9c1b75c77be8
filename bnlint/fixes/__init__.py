"""Autofixes on libcst: each rule's fixers (bnlint/rules/) edit the libcst
node found by the span `ast` reported (build.py); `apply`, `write` and
`command` apply fixes to text, to files and for the CLI."""
