//! The operator dashboard: one page of HTML, a style sheet and a script,
//! compiled into the binary so the server needs no files and the browser
//! no network beyond this server. The page signs in with an API key and
//! reads everything through the `/v1` API, so it sees exactly what the key
//! may see.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

const INDEX_HTML: &str = include_str!("dashboard/index.html");
const DASHBOARD_CSS: &str = include_str!("dashboard/dashboard.css");
const DASHBOARD_JS: &str = include_str!("dashboard/dashboard.js");

/// Only this server's own scripts, styles and connections: no inline
/// script can run even if some shown value slipped past escaping.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            // The assets change with the binary; a stale copy after an
            // upgrade would talk to an API it does not know.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
}

/// The dashboard's routes: the page at `/` and its two assets. Merged
/// beside the API's router; none of them needs a key, the page asks for
/// one.
pub fn router() -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", INDEX_HTML) }),
        )
        .route(
            "/dashboard.css",
            get(|| async { asset("text/css; charset=utf-8", DASHBOARD_CSS) }),
        )
        .route(
            "/dashboard.js",
            get(|| async { asset("text/javascript; charset=utf-8", DASHBOARD_JS) }),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_its_own_assets() {
        assert!(INDEX_HTML.contains(r#"src="/dashboard.js""#));
        assert!(INDEX_HTML.contains(r#"href="/dashboard.css""#));
        for text in [INDEX_HTML, DASHBOARD_CSS, DASHBOARD_JS] {
            // The SVG namespace is a name, not an address anything loads.
            let text = text.replace("http://www.w3.org/2000/svg", "");
            assert!(
                !text.contains("http://") && !text.contains("https://") && !text.contains("//cdn"),
                "an asset names an outside address"
            );
        }
        assert!(
            !INDEX_HTML.contains("<script>"),
            "inline scripts are refused by the content security policy"
        );
    }

    #[test]
    fn every_api_path_the_script_calls_is_a_route() {
        let routes: Vec<String> = super::super::routes::routes()
            .into_iter()
            .map(|route| route.path)
            .collect();
        let used: Vec<&str> = DASHBOARD_JS
            .split('"')
            .filter(|text| text.starts_with("/v1/"))
            .collect();
        assert!(
            used.len() >= 15,
            "the script's path table was not found: {used:?}"
        );
        for path in used {
            assert!(
                routes.iter().any(|route| route == path),
                "the dashboard calls {path}, which is no route"
            );
        }
    }
}
