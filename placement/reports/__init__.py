"""Commissioner reports: the Part 4 return over an area and a period, with disclosure control.

Computed from the records (referrals, offers, placements, units) on every request, never
kept by themselves. `period` and `area` say what is reported on, the measure modules
count, `disclosure` decides what may be published, `part4` puts a report together and
`csv_output` / `html_output` render it.
"""
