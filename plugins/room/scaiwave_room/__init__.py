"""scaiwave-room: room export and import as ZIP bundles"""
