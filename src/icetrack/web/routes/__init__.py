"""The app's routes: the JSON API, the charts and the dashboard pages, each a thin APIRouter."""
