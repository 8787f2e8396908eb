"""One APIRouter per resource; http/app.py includes them."""
