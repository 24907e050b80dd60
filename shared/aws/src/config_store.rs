//! Sources, destinations and routes in DynamoDB, one item each. Every
//! read, write and delete here names one of their three `pk`s, so other
//! items of the table (the index shard count, `pk` = `INDEX`, see
//! `shard_count`) are neither loaded as configuration nor removed by
//! [`DynamoConfigStore::replace_config`].
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use hookrelay_core::{ConfigItem, ConfigKey, ConfigStore, ConfigWriter, CoreError};
use hookrelay_models::{Config, Destination, Route, Source, SourceId};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use crate::error::{call_error, AwsError};

const SOURCE: &str = "SOURCE";
const DESTINATION: &str = "DESTINATION";
const ROUTE: &str = "ROUTE";

#[derive(Clone)]
pub struct DynamoConfigStore {
    client: Client,
    table: String,
}

type Item = HashMap<String, AttributeValue>;

fn doc_of<T: DeserializeOwned>(item: &Item) -> Result<T, AwsError> {
    let doc = item
        .get("doc")
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| AwsError::Corrupt("config item without doc".into()))?;
    serde_json::from_str(doc).map_err(|e| AwsError::Corrupt(format!("config item: {e}")))
}

fn item_of<T: Serialize>(pk: &str, sk: String, value: &T) -> Item {
    let doc = serde_json::to_string(value).expect("config models serialize");
    HashMap::from([
        ("pk".to_string(), AttributeValue::S(pk.to_string())),
        ("sk".to_string(), AttributeValue::S(sk)),
        ("doc".to_string(), AttributeValue::S(doc)),
    ])
}

/// A destination's operational state: whether it is enabled, and why not.
/// It lives in an attribute of its own beside the document, so that
/// enabling or disabling (by a 410, an automatic disable, a probe, an
/// operator) and changing the settings (a rotation, an update) each write
/// only their own part, and neither undoes the other when they meet.
const OPERATIONAL: &str = "operational";

#[derive(Serialize, Deserialize)]
struct Operational {
    enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    disabled_reason: Option<String>,
}

fn operational_of(destination: &Destination) -> AttributeValue {
    let state = Operational {
        enabled: destination.enabled,
        disabled_reason: destination.disabled_reason.clone(),
    };
    AttributeValue::S(serde_json::to_string(&state).expect("operational state serializes"))
}

/// A destination item: its document, with the operational state laid over
/// it where the item has one (items written before it existed have not).
fn destination_of(item: &Item) -> Result<Destination, AwsError> {
    let mut destination: Destination = doc_of(item)?;
    if let Some(state) = item.get(OPERATIONAL).and_then(|v| v.as_s().ok()) {
        let state: Operational = serde_json::from_str(state)
            .map_err(|e| AwsError::Corrupt(format!("destination state: {e}")))?;
        destination.enabled = state.enabled;
        destination.disabled_reason = state.disabled_reason;
    }
    Ok(destination)
}

fn route_key(route: &Route) -> String {
    format!("{}#{}", route.source, route.destination)
}

impl DynamoConfigStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoConfigStore {
            client,
            table: table.into(),
        }
    }

    async fn query_all<T: DeserializeOwned>(&self, pk: &str) -> Result<Vec<T>, AwsError> {
        self.query_items(pk, |item| doc_of(item)).await
    }

    async fn query_items<T>(
        &self,
        pk: &str,
        read: impl Fn(&Item) -> Result<T, AwsError>,
    ) -> Result<Vec<T>, AwsError> {
        let mut found = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(pk.to_string()))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| call_error("dynamodb", e))?;
            for item in page.items() {
                found.push(read(item)?);
            }
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(found),
            }
        }
    }

    async fn put(&self, item: Item) -> Result<(), AwsError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| call_error("dynamodb", e))?;
        Ok(())
    }

    async fn delete(&self, pk: &str, sk: String) -> Result<(), AwsError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk.to_string()))
            .key("sk", AttributeValue::S(sk))
            .send()
            .await
            .map_err(|e| call_error("dynamodb", e))?;
        Ok(())
    }

    /// One destination, read consistently.
    async fn get_destination(
        &self,
        id: &hookrelay_models::DestinationId,
    ) -> Result<Option<Destination>, AwsError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(DESTINATION.to_string()))
            .key("sk", AttributeValue::S(id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| call_error("dynamodb", e))?;
        found.item().map(destination_of).transpose()
    }

    pub async fn put_source(&self, source: &Source) -> Result<(), AwsError> {
        self.put(item_of(SOURCE, source.id.to_string(), source))
            .await
    }

    /// Writes a destination whole, its operational state included (a
    /// pushed configuration says what it wants).
    pub async fn put_destination(&self, destination: &Destination) -> Result<(), AwsError> {
        let mut item = item_of(DESTINATION, destination.id.to_string(), destination);
        item.insert(OPERATIONAL.into(), operational_of(destination));
        self.put(item).await
    }

    /// Writes a destination's settings; an existing destination keeps its
    /// operational state as stored, a new one takes `destination`'s.
    pub async fn put_destination_settings(
        &self,
        destination: &Destination,
    ) -> Result<(), AwsError> {
        let doc = serde_json::to_string(destination).expect("config models serialize");
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(DESTINATION.to_string()))
            .key("sk", AttributeValue::S(destination.id.to_string()))
            .update_expression("SET doc = :doc, #state = if_not_exists(#state, :state)")
            .expression_attribute_names("#state", OPERATIONAL)
            .expression_attribute_values(":doc", AttributeValue::S(doc))
            .expression_attribute_values(":state", operational_of(destination))
            .send()
            .await
            .map_err(|e| call_error("dynamodb", e))?;
        Ok(())
    }

    pub async fn put_route(&self, route: &Route) -> Result<(), AwsError> {
        self.put(item_of(ROUTE, route_key(route), route)).await
    }

    /// Makes the table hold exactly `config`: writes every item, then
    /// removes those no longer in it. Idempotent.
    pub async fn replace_config(&self, config: &Config) -> Result<(), AwsError> {
        let current = self.load().await?;
        for source in &config.sources {
            self.put_source(source).await?;
        }
        for destination in &config.destinations {
            self.put_destination(destination).await?;
        }
        for route in &config.routes {
            self.put_route(route).await?;
        }
        for route in current.routes.iter().filter(|r| !config.routes.contains(r)) {
            if !config
                .routes
                .iter()
                .any(|n| route_key(n) == route_key(route))
            {
                self.delete(ROUTE, route_key(route)).await?;
            }
        }
        for source in &current.sources {
            if config.source(&source.id).is_none() {
                self.delete(SOURCE, source.id.to_string()).await?;
            }
        }
        for destination in &current.destinations {
            if config.destination(&destination.id).is_none() {
                self.delete(DESTINATION, destination.id.to_string()).await?;
            }
        }
        Ok(())
    }

    /// Everything in the table, as a configuration.
    pub async fn load(&self) -> Result<Config, AwsError> {
        Ok(Config {
            allow_private_destinations: false,
            sources: self.query_all(SOURCE).await?,
            destinations: self.query_items(DESTINATION, destination_of).await?,
            routes: self.query_all(ROUTE).await?,
        })
    }
}

#[async_trait]
impl ConfigWriter for DynamoConfigStore {
    async fn put(&self, item: &ConfigItem) -> Result<(), CoreError> {
        match item {
            ConfigItem::Source(source) => self.put_source(source).await?,
            ConfigItem::Destination(destination) => {
                self.put_destination_settings(destination).await?
            }
            ConfigItem::Route(route) => self.put_route(route).await?,
        }
        Ok(())
    }

    async fn remove(&self, key: &ConfigKey) -> Result<(), CoreError> {
        match key {
            ConfigKey::Source(id) => self.delete(SOURCE, id.to_string()).await?,
            ConfigKey::Destination(id) => self.delete(DESTINATION, id.to_string()).await?,
            ConfigKey::Route(source, destination) => {
                self.delete(ROUTE, format!("{source}#{destination}"))
                    .await?
            }
        }
        Ok(())
    }

    async fn replace(&self, config: &Config) -> Result<(), CoreError> {
        Ok(self.replace_config(config).await?)
    }
}

#[async_trait]
impl ConfigStore for DynamoConfigStore {
    async fn source(&self, id: &SourceId) -> Result<Option<Source>, CoreError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(SOURCE.to_string()))
            .key("sk", AttributeValue::S(id.to_string()))
            .send()
            .await
            .map_err(|e| call_error("dynamodb", e))?;
        match found.item() {
            Some(item) => Ok(Some(doc_of(item)?)),
            None => Ok(None),
        }
    }

    async fn fresh_destination(
        &self,
        id: &hookrelay_models::DestinationId,
    ) -> Result<Option<Destination>, CoreError> {
        Ok(self.get_destination(id).await?)
    }

    async fn set_destination_enabled(
        &self,
        id: &hookrelay_models::DestinationId,
        enabled: bool,
        reason: Option<String>,
    ) -> Result<(), CoreError> {
        let state = Operational {
            enabled,
            disabled_reason: if enabled { None } else { reason },
        };
        let state = serde_json::to_string(&state).expect("operational state serializes");
        // Only the state: a concurrent rotation or update of the settings
        // is neither read nor written back.
        let written = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(DESTINATION.to_string()))
            .key("sk", AttributeValue::S(id.to_string()))
            .update_expression("SET #state = :state")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#state", OPERATIONAL)
            .expression_attribute_values(":state", AttributeValue::S(state))
            .send()
            .await;
        match written {
            Ok(_) => Ok(()),
            // Removed meanwhile: nothing to enable or disable.
            Err(err) if crate::error::is_condition_failed(&err) => Ok(()),
            Err(err) => Err(call_error("dynamodb", err).into()),
        }
    }

    /// `allow_private_destinations` is not stored: it is a deployment
    /// setting, read from the environment by the dispatcher.
    async fn config(&self) -> Result<Config, CoreError> {
        Ok(self.load().await?)
    }
}
