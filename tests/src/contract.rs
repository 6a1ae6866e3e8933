//! Checks responses against the OpenAPI document the stack serves, so the document cannot
//! claim what the API does not do: every response's status must be documented for its
//! route, and its JSON body must match the documented schema.

use serde_json::Value;

/// The served OpenAPI document.
pub struct Contract {
    document: Value,
}

impl Contract {
    pub fn new(document: Value) -> Self {
        Self { document }
    }

    /// `Ok` when `status` is documented for `method path` and `body` matches its schema.
    pub fn check(&self, method: &str, path: &str, status: u16, body: &Value) -> Result<(), String> {
        let path = path.split('?').next().unwrap_or(path);
        let template = self
            .template_for(path)
            .ok_or_else(|| format!("{method} {path}: no such path in the document"))?;
        let operation = &self.document["paths"][template][method.to_lowercase()];
        if operation.is_null() {
            return Err(format!(
                "{method} {template}: no such operation in the document"
            ));
        }
        let response = &operation["responses"][status.to_string()];
        if response.is_null() {
            return Err(format!(
                "{method} {template}: status {status} is not documented"
            ));
        }
        let Some(schema) = response["content"]["application/json"].get("schema") else {
            return Ok(());
        };
        // Validate against the schema with the document's components beside it, so that
        // `#/components/schemas/...` references resolve.
        let mut root = schema.clone();
        if let Some(object) = root.as_object_mut() {
            object.insert("components".into(), self.document["components"].clone());
        }
        let validator = jsonschema::draft202012::new(&root)
            .map_err(|err| format!("{method} {template} {status}: unusable schema: {err}"))?;
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|err| format!("{} at {}", err, err.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{method} {template} {status}: body breaks the schema: {}\n{body}",
                errors.join("; ")
            ))
        }
    }

    /// The document's path template for a concrete path: a literal match wins over one
    /// with parameters (`/users/me` over `/users/{id}`).
    fn template_for(&self, path: &str) -> Option<&str> {
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let paths = self.document["paths"].as_object()?;
        paths
            .keys()
            .filter_map(|template| {
                let parts: Vec<&str> = template.split('/').collect();
                if parts.len() != segments.len() {
                    return None;
                }
                let mut params = 0;
                for (part, segment) in parts.iter().zip(&segments) {
                    if part.starts_with('{') && part.ends_with('}') && !segment.is_empty() {
                        params += 1;
                    } else if part != segment {
                        return None;
                    }
                }
                Some((params, template.as_str()))
            })
            .min()
            .map(|(_, template)| template)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn contract() -> Contract {
        Contract::new(json!({
            "paths": {
                "/users/me": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Me"}}}}}}},
                "/users/{id}": {"get": {"responses": {"404": {"description": "x"}}}}
            },
            "components": {"schemas": {"Me": {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}}}
        }))
    }

    #[test]
    fn literal_paths_win_and_schemas_are_enforced() {
        let c = contract();
        assert!(c.check("GET", "/users/me", 200, &json!({"id": 1})).is_ok());
        assert!(
            c.check("GET", "/users/me", 200, &json!({"id": "1"}))
                .is_err()
        );
        assert!(c.check("GET", "/users/me", 200, &json!({})).is_err());
        assert!(c.check("GET", "/users/7", 404, &json!({})).is_ok());
        assert!(
            c.check("GET", "/users/7", 500, &json!({}))
                .unwrap_err()
                .contains("not documented")
        );
        assert!(c.check("POST", "/users/7", 404, &json!({})).is_err());
        assert!(c.check("GET", "/nowhere", 200, &json!({})).is_err());
    }
}
