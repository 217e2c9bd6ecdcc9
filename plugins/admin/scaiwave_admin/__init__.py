"""scaiwave-admin: tenants, partners, federation keys, audit"""
