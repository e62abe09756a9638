//! Images devices send (snapshots, face cut-outs), kept out of SQL. Blobs
//! are content-addressed under their tenant — `{tenant}/{hh}/{sha256}.{ext}`
//! — so a retransmitted image is stored once and a key names exactly one
//! content. The default store is a local directory (under the data
//! directory); several instances need a shared one (decision 013).

use std::path::{Path, PathBuf};

use footfall_domain::{Error, Result, TenantId};
use sha2::{Digest, Sha256};

/// What kind of image a blob holds, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Jpeg,
    Png,
    Other,
}

impl MediaType {
    pub fn sniff(bytes: &[u8]) -> MediaType {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            MediaType::Jpeg
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            MediaType::Png
        } else {
            MediaType::Other
        }
    }

    fn extension(self) -> &'static str {
        match self {
            MediaType::Jpeg => "jpg",
            MediaType::Png => "png",
            MediaType::Other => "bin",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::Other => "application/octet-stream",
        }
    }

    fn from_extension(ext: &str) -> Option<MediaType> {
        match ext {
            "jpg" => Some(MediaType::Jpeg),
            "png" => Some(MediaType::Png),
            "bin" => Some(MediaType::Other),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Blobs {
    root: PathBuf,
}

impl Blobs {
    pub fn local(root: impl Into<PathBuf>) -> Blobs {
        Blobs { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Stores `bytes` for `tenant` and returns the key. Durable when it
    /// returns: written to a temporary file, synced, then renamed.
    pub async fn put(&self, tenant: TenantId, bytes: &[u8]) -> Result<String> {
        let hash = hex(&Sha256::digest(bytes));
        let key = format!("{tenant}/{}/{hash}.{}", &hash[..2], MediaType::sniff(bytes).extension());
        let path = self.root.join(&key);
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(key);
        }
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.root.clone());
        tokio::fs::create_dir_all(&dir).await.map_err(io_error)?;
        let tmp = dir.join(format!(".{hash}.{}.tmp", uuid::Uuid::now_v7().simple()));
        let write = async {
            let mut file = tokio::fs::File::create(&tmp).await?;
            tokio::io::AsyncWriteExt::write_all(&mut file, bytes).await?;
            file.sync_all().await?;
            tokio::fs::rename(&tmp, &path).await
        };
        if let Err(e) = write.await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(io_error(e));
        }
        Ok(key)
    }

    /// A blob of `tenant` by key, with its media type. `None` for a key that
    /// is not the tenant's or not a blob key at all.
    pub async fn get(&self, tenant: TenantId, key: &str) -> Result<Option<(MediaType, Vec<u8>)>> {
        let Some(media) = parse_key(tenant, key) else {
            return Ok(None);
        };
        match tokio::fs::read(self.root.join(key)).await {
            Ok(bytes) => Ok(Some((media, bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(e)),
        }
    }
}

/// Checks that `key` is one `put` makes for `tenant`; nothing else may
/// reach the file system.
fn parse_key(tenant: TenantId, key: &str) -> Option<MediaType> {
    let mut parts = key.split('/');
    let (owner, shard, file) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || owner != tenant.to_string() {
        return None;
    }
    let (hash, ext) = file.split_once('.')?;
    let hex_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if hash.len() != 64 || !hex_ok(hash) || shard != &hash[..2] {
        return None;
    }
    MediaType::from_extension(ext)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn io_error(e: std::io::Error) -> Error {
    Error::internal(format!("blob store: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn blobs_are_content_addressed_per_tenant() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::local(dir.path());
        let (a, b) = (
            TenantId::from_uuid(uuid::Uuid::now_v7()),
            TenantId::from_uuid(uuid::Uuid::now_v7()),
        );
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3];
        let key = blobs.put(a, &jpeg).await.unwrap();
        assert!(key.starts_with(&format!("{a}/")) && key.ends_with(".jpg"), "{key}");
        assert_eq!(blobs.put(a, &jpeg).await.unwrap(), key, "stored once");
        assert_eq!(
            blobs.get(a, &key).await.unwrap(),
            Some((MediaType::Jpeg, jpeg.to_vec()))
        );
        assert_eq!(blobs.get(b, &key).await.unwrap(), None, "another tenant's key");
        let forged = key.replacen(&a.to_string(), &b.to_string(), 1);
        assert_eq!(blobs.get(b, &forged).await.unwrap(), None, "never stored");
        for bad in [
            "../etc/passwd",
            "",
            &format!("{a}/../x"),
            &format!("{a}/ab/{}.jpg", "z".repeat(64)),
        ] {
            assert_eq!(blobs.get(a, bad).await.unwrap(), None, "{bad}");
        }
    }
}
