# Models arrive with this app's issue; see README.md for the roadmap.
