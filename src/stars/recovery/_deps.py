"""Private helpers recovery borrows from other public modules, imported in this one place.

`_need_account` (from `stars.account`) and `_a` (from `stars.errors`) are private names of
public modules. Until they move to shared `stars._*` modules, recovery takes them only
from here, so redirecting the two lines below is all that moving them needs.
"""

from stars._accounts import _need_account as _need_account
from stars.errors import _a as _a
