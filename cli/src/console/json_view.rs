//! A body as the event page shows it: JSON pretty-printed with its keys,
//! strings and other values marked for colour; anything else as text.
use maud::{html, Markup};

/// Spans of one kind of JSON token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Key,
    Text,
    Value,
    Punctuation,
}

impl Token {
    fn class(self) -> &'static str {
        match self {
            Token::Key => "k",
            Token::Text => "s",
            Token::Value => "v",
            Token::Punctuation => "p",
        }
    }
}

/// Pretty JSON split into classified pieces.
fn tokens(pretty: &str) -> Vec<(Token, &str)> {
    let bytes = pretty.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let token = match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(bytes.len());
                // A string followed by a colon is a key.
                if pretty[i..].trim_start().starts_with(':') {
                    Token::Key
                } else {
                    Token::Text
                }
            }
            b'{' | b'}' | b'[' | b']' | b',' | b':' | b' ' | b'\n' => {
                i += 1;
                Token::Punctuation
            }
            _ => {
                while i < bytes.len() && !b"{}[],: \n\"".contains(&bytes[i]) {
                    i += 1;
                }
                Token::Value
            }
        };
        out.push((token, &pretty[start..i]));
    }
    out
}

pub fn highlighted(body: &[u8]) -> Markup {
    let pretty = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|value| serde_json::to_string_pretty(&value).ok());
    match pretty {
        Some(pretty) => html! {
            @for (token, text) in tokens(&pretty) {
                @if token == Token::Punctuation { (text) }
                @else { span class=(token.class()) { (text) } }
            }
        },
        None => html! { (String::from_utf8_lossy(body)) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_pretty_printed_with_keys_strings_and_values_marked_and_escaped() {
        let shown = highlighted(br#"{"a":"x<y","n":[1,true,null],"q":"say \"hi\""}"#).into_string();
        assert!(
            shown.contains(r#"<span class="k">&quot;a&quot;</span>"#),
            "{shown}"
        );
        assert!(
            shown.contains(r#"<span class="s">&quot;x&lt;y&quot;</span>"#),
            "{shown}"
        );
        assert!(shown.contains(r#"<span class="v">true</span>"#), "{shown}");
        assert!(
            shown.contains(r#"<span class="s">&quot;say \&quot;hi\&quot;&quot;</span>"#),
            "{shown}"
        );
        assert!(shown.contains("\n  "), "pretty-printed: {shown}");
        let text = highlighted(b"a=<b>&c").into_string();
        assert_eq!(text, "a=&lt;b&gt;&amp;c");
    }
}
