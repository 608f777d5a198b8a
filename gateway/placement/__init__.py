"""The placement feature (issue 26): job orders, offers, placements, wages, ratings and
grievances, as cooperatives, their workers and their employer clients read them."""
