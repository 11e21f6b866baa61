# Patients are deliberately not in Django admin: admins manage areas, organisations, teams and
# people, and every read of patient data must go through the app's access helper and access log.
# Emergency accesses are reviewed in the access log's admin (filter "needs review").
