//! Suppression lists through the HTTP API: lists, adds and uploads with
//! their row errors, removal, paging, the check of a number, and workspace
//! isolation. Every answer is checked against the OpenAPI document by the
//! test server.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api::{ACME_KEY, Server, json_of, start};

const GLOBEX_KEY: &str = "globex-key-9876543210";

async fn server() -> Server {
    start("http://127.0.0.1:9/hook").await
}

async fn post_json(server: &Server, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
    let request = server
        .post(path, key)
        .header("content-type", "application/json")
        .body(body.to_string());
    json_of(request.send().await.unwrap()).await
}

async fn get(server: &Server, path: &str, key: &str) -> (StatusCode, Value) {
    json_of(server.get(path, key).send().await.unwrap()).await
}

async fn upload(
    server: &Server,
    path: &str,
    content_type: &str,
    body: &str,
) -> (StatusCode, Value) {
    let request = server
        .post(path, ACME_KEY)
        .header("content-type", content_type)
        .body(body.to_string());
    json_of(request.send().await.unwrap()).await
}

fn phones_of(page: &Value) -> Vec<String> {
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["phone"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_has_dnc_internal_and_creates_blocking_and_informing_lists() {
    let server = server().await;
    let (status, lists) = get(&server, "/v1/suppression-lists", ACME_KEY).await;
    assert_eq!(status, StatusCode::OK, "{lists}");
    assert_eq!(lists["lists"][0]["name"], "dnc-internal");
    assert_eq!(lists["lists"][0]["blocks"], true);
    assert_eq!(lists["lists"][0]["entries"], 0);

    let (status, created) = post_json(
        &server,
        "/v1/suppression-lists",
        ACME_KEY,
        json!({"name": "consent", "description": "opted in on the web form", "blocks": false}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["blocks"], false);
    assert_eq!(created["workspace"], "acme");
    let (status, again) = post_json(
        &server,
        "/v1/suppression-lists",
        ACME_KEY,
        json!({"name": "consent"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(again["error"]["code"], "suppression_list_exists");
    let (status, bad) = post_json(
        &server,
        "/v1/suppression-lists",
        ACME_KEY,
        json!({"name": "Not OK"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"Not OK\""),
        "{bad}"
    );
    let (_, lists) = get(&server, "/v1/suppression-lists", ACME_KEY).await;
    let names: Vec<&str> = lists["lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|list| list["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["consent", "dnc-internal"]);
    let (status, missing) = get(&server, "/v1/suppression-lists/nope", ACME_KEY).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["error"]["code"], "suppression_list_not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_added_are_normalized_updated_not_duplicated_and_checked() {
    let server = server().await;
    let (status, added) = post_json(
        &server,
        "/v1/suppression-lists/dnc-internal/entries?default_country=US",
        ACME_KEY,
        json!({"entries": [
            {"phone": "(212) 555-0101", "reason": "asked not to be called"},
            {"phone": "+13125550102", "expires_at": "2025-06-15T12:00:00Z"},
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(
        added,
        json!({"list": "dnc-internal", "added": 2, "updated": 0})
    );
    let (_, again) = post_json(
        &server,
        "/v1/suppression-lists/dnc-internal/entries",
        ACME_KEY,
        json!({"entries": [{"phone": "+12125550101", "reason": "complained again"}]}),
    )
    .await;
    assert_eq!(again["updated"], 1);
    let (_, list) = get(&server, "/v1/suppression-lists/dnc-internal", ACME_KEY).await;
    assert_eq!(list["entries"], 2);

    let (status, check) = get(&server, "/v1/suppressions/+12125550101", ACME_KEY).await;
    assert_eq!(status, StatusCode::OK, "{check}");
    assert_eq!(
        check,
        json!({
            "phone": "+12125550101",
            "lists": [{"list": "dnc-internal", "blocks": true, "reason": "complained again"}],
            "blocked": true,
        })
    );
    // Its entry expired at 2025-06-15T12:00:00Z; the server's clock is
    // past it.
    let (_, expired) = get(&server, "/v1/suppressions/+13125550102", ACME_KEY).await;
    assert_eq!(expired["blocked"], false, "{expired}");
    assert_eq!(expired["lists"], json!([]));
    let (_, page) = get(
        &server,
        "/v1/suppression-lists/dnc-internal/entries",
        ACME_KEY,
    )
    .await;
    assert_eq!(phones_of(&page), ["+12125550101", "+13125550102"]);
    assert_eq!(page["entries"][1]["expires_at"], 1_749_988_800_000_i64);
    assert_eq!(page["entries"][0]["added_by"], "api_key:acme-ops");

    let (status, bad) = get(&server, "/v1/suppressions/not-a-number", ACME_KEY).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad["error"]["code"], "invalid_entries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_entries_are_each_reported_with_their_place_and_nothing_is_written() {
    let server = server().await;
    let (status, refused) = post_json(
        &server,
        "/v1/suppression-lists/dnc-internal/entries",
        ACME_KEY,
        json!({"entries": [
            {"phone": "+12125550101"},
            {"phone": "12"},
            {"phone": "+12125550103", "expires_at": "next tuesday"},
            {"phone": "+12125550104", "color": "red"},
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["code"], "invalid_entries");
    let fields: Vec<&str> = refused["error"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "entries[1].phone",
            "entries[2].expires_at",
            "entries[3].color"
        ]
    );
    let (status, refused) = upload(
        &server,
        "/v1/suppression-lists/dnc-internal/entries/upload",
        "text/csv",
        "phone,reason\n+12125550101,ok\nnope,bad\n+12125550103,ok\n,missing\n",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let rows: Vec<(u64, &str)> = refused["error"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row["row"].as_u64().unwrap(), row["field"].as_str().unwrap()))
        .collect();
    assert_eq!(rows, [(3, "phone"), (5, "phone")]);
    assert!(
        refused["error"]["rows"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("row 3, column \"phone\": "),
        "{refused}"
    );
    let (_, list) = get(&server, "/v1/suppression-lists/dnc-internal", ACME_KEY).await;
    assert_eq!(list["entries"], 0, "a refused request writes nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_of_csv_or_a_json_array_adds_every_row_and_pages_back_in_order() {
    let server = server().await;
    let mut csv = String::from("Phone,expires_at,reason,notes\n");
    for i in (0..25).rev() {
        csv.push_str(&format!("+1212555{:04},,complaint {i},ignored\n", 1000 + i));
    }
    let (status, added) = upload(
        &server,
        "/v1/suppression-lists/dnc-internal/entries/upload",
        "text/csv",
        &csv,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(added["added"], 25);
    let (status, added) = upload(
        &server,
        "/v1/suppression-lists/dnc-internal/entries/upload",
        "application/json",
        &json!([{"phone": "+13125550100", "reason": "from the CRM"}]).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(added["added"], 1);
    let (status, refused) = upload(
        &server,
        "/v1/suppression-lists/dnc-internal/entries/upload",
        "application/json",
        &json!([{"phone": "bad"}]).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["error"]["rows"][0]["field"], "[0].phone");

    let mut listed = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!(
                "/v1/suppression-lists/dnc-internal/entries?limit=10&cursor={}",
                cursor.replace('+', "%2B")
            ),
            None => "/v1/suppression-lists/dnc-internal/entries?limit=10".to_string(),
        };
        let (status, page) = get(&server, &path, ACME_KEY).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        listed.extend(phones_of(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(listed.len(), 26);
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(listed, sorted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_are_taken_off_one_at_a_time_or_many_at_once() {
    let server = server().await;
    post_json(
        &server,
        "/v1/suppression-lists/dnc-internal/entries",
        ACME_KEY,
        json!({"entries": [
            {"phone": "+12125550101"}, {"phone": "+12125550102"}, {"phone": "+12125550103"},
        ]}),
    )
    .await;
    let (status, one) = json_of(
        server
            .delete(
                "/v1/suppression-lists/dnc-internal/entries/+12125550101",
                ACME_KEY,
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one, json!({"list": "dnc-internal", "removed": 1}));
    let (_, many) = post_json(
        &server,
        "/v1/suppression-lists/dnc-internal/entries/remove",
        ACME_KEY,
        json!({"phones": ["+12125550102", "+12125550199"]}),
    )
    .await;
    assert_eq!(many["removed"], 1);
    let (_, page) = get(
        &server,
        "/v1/suppression-lists/dnc-internal/entries",
        ACME_KEY,
    )
    .await;
    assert_eq!(phones_of(&page), ["+12125550103"]);
    let (status, refused) = post_json(
        &server,
        "/v1/suppression-lists/dnc-internal/entries/remove",
        ACME_KEY,
        json!({"phones": ["+12125550103", "garbage"]}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["error"]["rows"][0]["field"], "phones[1]");
    let (_, list) = get(&server, "/v1/suppression-lists/dnc-internal", ACME_KEY).await;
    assert_eq!(list["entries"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_reads_and_writes_only_its_own_lists() {
    let server = server().await;
    post_json(
        &server,
        "/v1/suppression-lists",
        ACME_KEY,
        json!({"name": "litigators"}),
    )
    .await;
    post_json(
        &server,
        "/v1/suppression-lists/litigators/entries",
        ACME_KEY,
        json!({"entries": [{"phone": "+12125550101", "reason": "sued us"}]}),
    )
    .await;
    let (status, missing) = get(&server, "/v1/suppression-lists/litigators", GLOBEX_KEY).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    let (status, refused) = post_json(
        &server,
        "/v1/suppression-lists/litigators/entries",
        GLOBEX_KEY,
        json!({"entries": [{"phone": "+12125550102"}]}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{refused}");
    let (_, check) = get(&server, "/v1/suppressions/+12125550101", GLOBEX_KEY).await;
    assert_eq!(check["blocked"], false);
    let (_, lists) = get(&server, "/v1/suppression-lists", GLOBEX_KEY).await;
    assert_eq!(lists["lists"].as_array().unwrap().len(), 1);
    let (_, check) = get(&server, "/v1/suppressions/+12125550101", ACME_KEY).await;
    assert_eq!(check["blocked"], true);
}
