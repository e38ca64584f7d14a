//! The pins every front end shares: `<prefix>.s3-prune/pins.json`. A change reads the file with
//! its ETag and writes it back only if nobody wrote it since (`If-Match` on that ETag, or
//! `If-None-Match: *` when there was no file), reading again when someone did: two front ends
//! pinning at once both keep their pin. A server that ignores conditional writes (Garage 2.5;
//! the lease warns about it) takes the last write, as a plain PUT would.

use crate::state::RESERVED;
use crate::state::{Put, Tagged};
use crate::{Bucket, S3Error};
use retention::Pin;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Tries at a change before it gives up (each lost to another front end's write).
const TRIES: u32 = 8;

/// The file: its pins, and what this version does not know of it (a newer s3-prune's fields,
/// of the file and of each pin), written back as read.
#[derive(Debug, Default, Serialize, Deserialize)]
struct PinsFile {
    pins: Vec<StoredPin>,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredPin {
    #[serde(flatten)]
    pin: Pin,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

/// The pins as read, with the file's ETag (`None`: no file) and what this version does not
/// know of it.
struct ReadPins {
    pins: Vec<Pin>,
    etag: Option<String>,
    file: PinsFile,
}

impl Bucket {
    pub fn pins_key(&self) -> String {
        format!("{}{RESERVED}/pins.json", self.prefix)
    }

    /// Pins stored in the bucket; none when the file does not exist. A file that exists but
    /// cannot be read or parsed is an error.
    pub async fn read_pins(&self) -> Result<Vec<Pin>, S3Error> {
        Ok(self.read_pins_tagged().await?.pins)
    }

    /// Changes the stored pins with `change` and returns them as written. Should another front
    /// end write them meanwhile, they are read again and `change` made on those.
    pub async fn update_pins(&self, change: impl Fn(&mut Vec<Pin>)) -> Result<Vec<Pin>, S3Error> {
        for attempt in 0..TRIES {
            let ReadPins {
                mut pins,
                etag,
                file,
            } = self.read_pins_tagged().await?;
            change(&mut pins);
            if self.write_pins_if(&pins, file, etag.as_deref()).await? {
                return Ok(pins);
            }
            // Lost to another writer: a short wait, longer each time, spread by the clock.
            let jitter = u64::from(chrono::Utc::now().timestamp_subsec_nanos() % 17);
            tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt + 1) + jitter)).await;
        }
        Err(S3Error::Service {
            action: "s3:PutObject".into(),
            code: "PreconditionFailed".into(),
            message: format!(
                "{} changed {TRIES} times while this change was being written (others are \
                 pinning at the same time): nothing was changed, try again",
                self.pins_key()
            ),
        })
    }

    /// The pins, the file's ETag and what this version does not know of it; refused when a
    /// newer s3-prune's format.
    async fn read_pins_tagged(&self) -> Result<ReadPins, S3Error> {
        let key = self.pins_key();
        let Some(Tagged { body, etag, .. }) = self.get_tagged(&key).await? else {
            return Ok(ReadPins {
                pins: Vec::new(),
                etag: None,
                file: PinsFile::default(),
            });
        };
        let place = format!("s3://{}/{key}", self.name);
        let file = serde_json::from_slice::<PinsFile>(&body).map_err(|e| S3Error::Pointer {
            key: place.clone(),
            problem: format!(
                "it is not a valid pins file ({e}): {}restore its previous version (a \
                 versioned bucket keeps it: `aws s3api list-object-versions --bucket {} \
                 --prefix {key}`) or fix it by hand ({{\"pins\": [...]}}); removing it \
                 drops every pin",
                crate::state::newer_hint(&body),
                self.name
            ),
        })?;
        crate::state::check_format(file.rest.get("format"), &place)?;
        Ok(ReadPins {
            pins: file.pins.iter().map(|p| p.pin.clone()).collect(),
            etag,
            file,
        })
    }

    /// Writes `pins` over `file` as read (what this version does not know of it kept, a pin's
    /// by its id) if the file is still the one with `etag` (absent for `None`); `false` when
    /// someone wrote it since.
    async fn write_pins_if(
        &self,
        pins: &[Pin],
        file: PinsFile,
        etag: Option<&str>,
    ) -> Result<bool, S3Error> {
        let stored = pins
            .iter()
            .map(|pin| StoredPin {
                pin: pin.clone(),
                rest: file
                    .pins
                    .iter()
                    .find(|p| p.pin.id == pin.id)
                    .map(|p| p.rest.clone())
                    .unwrap_or_default(),
            })
            .collect();
        let body = serde_json::to_vec_pretty(&PinsFile {
            pins: stored,
            rest: file.rest,
        })
        .expect("pins serialize");
        match self.put_if(&self.pins_key(), body, etag).await {
            Ok(Put::Written(_)) => Ok(true),
            Ok(Put::Refused) => Ok(false),
            Err(e) => Err(self.key_err(e, "s3:PutObject", &self.pins_key())),
        }
    }
}
