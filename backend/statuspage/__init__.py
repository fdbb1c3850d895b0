"""Public status pages (`/status/{slug}`): what a page lists, rendered as light HTML, an
Atom feed and a badge for anyone, cached a minute; and the operators' announcements."""
