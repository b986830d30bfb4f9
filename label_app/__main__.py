"""`python -m label_app`: start the label app (see label_app/app.py)."""

import sys

from label_app.app import main

sys.exit(main())
