"""Imports every model so ``Base.metadata`` is complete (Alembic and tests use this)."""

from backend.auth import models as auth_models
from backend.db.base import Base
from backend.domain.assets import models as asset_models
from backend.domain.customers import models as customer_models
from backend.domain.org import models as org_models
from backend.domain.stocktake import models as stocktake_models
from backend.kernel import models as kernel_models
from backend.sync import models as sync_models

__all__ = [
    "Base",
    "asset_models",
    "auth_models",
    "customer_models",
    "kernel_models",
    "org_models",
    "stocktake_models",
    "sync_models",
]
