# The Cockpit page (Tools → Assignable devices): plain files, no build step.
# Cockpit finds packages in $(datadir)/cockpit/<name>/ (XDG data dirs).
cockpitdir = $(datadir)/cockpit/siov
dist_cockpit_DATA = \
	cockpit/manifest.json \
	cockpit/index.html \
	cockpit/siov.js \
	cockpit/siov.css
# The README's picture of the page (made by tests/integration/test-cockpit.sh).
EXTRA_DIST += cockpit/screenshot.png
