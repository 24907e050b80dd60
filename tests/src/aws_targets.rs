//! AWS delivery targets on moto, each landing in an SQS queue a test can
//! read: a queue itself, an SNS topic with the queue subscribed (raw
//! delivery), an EventBridge bus with a rule that sends to the queue.
use aws_config::SdkConfig;
use aws_sdk_sqs::types::QueueAttributeName;

/// A new queue (FIFO when asked: its name then ends in `.fifo`); its URL.
pub async fn create_queue(client: &aws_sdk_sqs::Client, prefix: &str, fifo: bool) -> String {
    let name = crate::moto::unique_name(prefix);
    let mut call = client.create_queue();
    if fifo {
        call = call
            .queue_name(format!("{name}.fifo"))
            .attributes(QueueAttributeName::FifoQueue, "true");
    } else {
        call = call.queue_name(name);
    }
    call.send()
        .await
        .expect("create queue")
        .queue_url()
        .expect("a queue URL")
        .to_string()
}

pub async fn queue_arn(client: &aws_sdk_sqs::Client, url: &str) -> String {
    client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue attributes")
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .expect("a queue ARN")
}

/// A new topic with the queue at `queue_arn` subscribed, raw delivery (the
/// queue gets the message as published, attributes as attributes); its
/// ARN.
pub async fn topic_into(sdk: &SdkConfig, queue_arn: &str) -> String {
    let sns = aws_sdk_sns::Client::new(sdk);
    let topic = sns
        .create_topic()
        .name(crate::moto::unique_name("topic"))
        .send()
        .await
        .expect("create topic")
        .topic_arn()
        .expect("a topic ARN")
        .to_string();
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(queue_arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .expect("subscribe the queue");
    topic
}

/// A new event bus with one rule, `pattern`, that sends what it matches
/// to the queue at `queue_arn`; the bus's name.
pub async fn bus_into(sdk: &SdkConfig, queue_arn: &str, pattern: &str) -> String {
    let events = aws_sdk_eventbridge::Client::new(sdk);
    let bus = crate::moto::unique_name("bus");
    events
        .create_event_bus()
        .name(&bus)
        .send()
        .await
        .expect("create bus");
    let rule = crate::moto::unique_name("rule");
    events
        .put_rule()
        .name(&rule)
        .event_bus_name(&bus)
        .event_pattern(pattern)
        .send()
        .await
        .expect("put rule");
    events
        .put_targets()
        .rule(&rule)
        .event_bus_name(&bus)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(queue_arn)
                .build()
                .expect("a target"),
        )
        .send()
        .await
        .expect("put targets");
    bus
}

/// Takes every message waiting in the queue (deleting each); how many.
pub async fn take_all(client: &aws_sdk_sqs::Client, url: &str) -> usize {
    let mut taken = 0;
    loop {
        let received = client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive");
        if received.messages().is_empty() {
            return taken;
        }
        for message in received.messages() {
            client
                .delete_message()
                .queue_url(url)
                .receipt_handle(message.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("delete");
            taken += 1;
        }
    }
}

/// A client of moto's SQS.
pub fn sqs_client() -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&crate::moto::shared().sdk_config())
}

/// A message as a consumer of the queue receives it.
pub struct Landed {
    pub body: String,
    /// Its message attributes (string values).
    pub attributes: std::collections::HashMap<String, String>,
    /// Its system attributes (`MessageGroupId`, …).
    pub system: std::collections::HashMap<String, String>,
}

/// Up to ten messages waiting in the queue, with every attribute; left
/// there (not deleted).
pub async fn receive_landed(client: &aws_sdk_sqs::Client, url: &str) -> Vec<Landed> {
    let answer = client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
        .send()
        .await
        .expect("receive");
    answer
        .messages()
        .iter()
        .map(|m| Landed {
            body: m.body().unwrap_or_default().to_string(),
            attributes: m
                .message_attributes()
                .map(|all| {
                    all.iter()
                        .map(|(k, v)| (k.clone(), v.string_value().unwrap_or_default().to_string()))
                        .collect()
                })
                .unwrap_or_default(),
            system: m
                .attributes()
                .map(|all| {
                    all.iter()
                        .map(|(k, v)| (k.as_str().to_string(), v.clone()))
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}
