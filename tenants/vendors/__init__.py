"""Vendors: the household businesses and cooperatives of a commune, which the market (stalls, sales at the stall)
and the marketplace (products, orders) both build on: the vendor, its bank accounts, its sign-in invitation and
its own pages. See docs/decisions.md ("Vendors")."""
