"""scaiwave-role: roles, permissions and assignments"""
