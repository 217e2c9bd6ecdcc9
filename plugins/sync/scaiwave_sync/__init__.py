"""scaiwave-sync: ScaiKey identity sync"""
