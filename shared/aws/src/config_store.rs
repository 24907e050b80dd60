//! Sources, destinations and routes in DynamoDB, one item each.
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use hookrelay_core::{ConfigItem, ConfigKey, ConfigStore, ConfigWriter, CoreError};
use hookrelay_models::{Config, Destination, Route, Source, SourceId};
use serde::de::DeserializeOwned;
use serde::Serialize;
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
                found.push(doc_of(item)?);
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
        found.item().map(doc_of).transpose()
    }

    pub async fn put_source(&self, source: &Source) -> Result<(), AwsError> {
        self.put(item_of(SOURCE, source.id.to_string(), source))
            .await
    }

    pub async fn put_destination(&self, destination: &Destination) -> Result<(), AwsError> {
        self.put(item_of(
            DESTINATION,
            destination.id.to_string(),
            destination,
        ))
        .await
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
            destinations: self.query_all(DESTINATION).await?,
            routes: self.query_all(ROUTE).await?,
        })
    }
}

#[async_trait]
impl ConfigWriter for DynamoConfigStore {
    async fn put(&self, item: &ConfigItem) -> Result<(), CoreError> {
        match item {
            ConfigItem::Source(source) => self.put_source(source).await?,
            ConfigItem::Destination(destination) => self.put_destination(destination).await?,
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
        let Some(mut destination) = self.get_destination(id).await? else {
            return Ok(());
        };
        destination.enabled = enabled;
        destination.disabled_reason = if enabled { None } else { reason };
        self.put_destination(&destination).await?;
        Ok(())
    }

    /// `allow_private_destinations` is not stored: it is a deployment
    /// setting, read from the environment by the dispatcher.
    async fn config(&self) -> Result<Config, CoreError> {
        Ok(self.load().await?)
    }
}
