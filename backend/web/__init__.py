"""The plain HTML pages served without NiceGUI: sign-in, sign-out and single sign-on,
the first admin's setup, the public status pages; and the one page frame they share
(`plain_page.py`). Light HTML, no script. The REST routes are `backend/api/`."""
