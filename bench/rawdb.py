"""What the benchmarks' raw-driver baselines share: ``CONNECT``, Python source defining
``connect(url, unbuffered=False) -> (connection, paramstyle marker)`` for sqlite3 or PyMySQL
(an ``SSCursor`` when unbuffered). The baselines run it inside their own ``python -c`` programs,
so it is source text, not an import."""

CONNECT = r"""
def connect(url, unbuffered=False):
    if url.startswith("sqlite"):
        import sqlite3
        return sqlite3.connect(url.split("///", 1)[1]), "?"
    import pymysql, pymysql.cursors
    from sqlalchemy.engine import make_url
    u = make_url(url)
    con = pymysql.connect(host=u.host, port=u.port or 3306, user=u.username,
                          password=u.password, database=u.database, charset="utf8mb4",
                          cursorclass=pymysql.cursors.SSCursor if unbuffered else
                          pymysql.cursors.Cursor)
    return con, "%s"
"""
