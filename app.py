"""Systemfel explorer: browse, search and follow the deficiencies found in PO reports.

Start with `systemfel app --db FILE`, or `streamlit run app.py -- --db FILE`, or set
SYSTEMFEL_DB. This file only launches the explorer; its pages live in systemfel/explorer/.
"""
from systemfel.explorer.main import main

# streamlit runs this file as __main__; a spawned worker process re-imports it under another name
if __name__ == "__main__":
    main()
