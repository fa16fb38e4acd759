//! Kubernetes as one slice: `--kubernetes` and its context flags,
//! `[kubernetes]`, the bundle's `kubernetes/` folder of lists and container
//! logs (read together: a log's component is its pod's), and how a cluster
//! is saved.

use std::path::PathBuf;

use clap::{Args, FromArgMatches};
use reconstruct_core::slice::{
    Bundle, Common, ConfigError, ConfigText, Resolution, ResolveError, SavedFile, Slice, Spec,
};
use reconstruct_core::{runtime, Source, SourceKind};
use serde::Deserialize;

use crate::fetch::Target;
use crate::Part;

/// What older captures called every file of a cluster: read by its place in the layout.
pub const OLD_ROLE: &str = "kubernetes";

/// Every role of a cluster's files: each part's, and the older one.
const ROLES: [&str; 7] = [
    OLD_ROLE,
    "kubernetes-pods",
    "kubernetes-events",
    "kubernetes-events-k8s-io",
    "kubernetes-node-events",
    "kubernetes-replicasets",
    "kubernetes-log",
];

#[derive(Debug, Args)]
#[group(skip)]
struct Flags {
    /// Read a Kubernetes cluster: pod logs, Events and pod status (the kubeconfig's current context unless --kube-context).
    #[arg(long)]
    kubernetes: bool,
    /// The kubeconfig file [default: KUBECONFIG, else ~/.kube/config, else in-cluster].
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, value_name = "NAME")]
    kube_context: Option<String>,
    /// The Kubernetes namespace [default: the context's].
    #[arg(long, value_name = "NS")]
    namespace: Option<String>,
    /// Every namespace of the cluster.
    #[arg(long)]
    all_namespaces: bool,
}

#[derive(Debug, Default, Deserialize)]
struct Tables {
    kubernetes: Option<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    kubeconfig: Option<PathBuf>,
    context: Option<String>,
    namespace: Option<String>,
    #[serde(default)]
    all_namespaces: bool,
}

/// One cluster source.
#[derive(Debug)]
pub enum KubeSpec {
    /// A cluster through its API.
    Live { target: Target },
    /// Lists and logs a capture saved, read together, each with its part.
    Files { files: Vec<(PathBuf, String, Part)> },
}

/// The kind of source: Kubernetes.
pub struct Kubernetes;

impl Slice for Kubernetes {
    fn name(&self) -> &'static str {
        "kubernetes"
    }

    fn describe(&self) -> &'static str {
        "a Kubernetes cluster: pod logs, Events, pod status and rollouts"
    }

    fn flags(&self, cmd: clap::Command) -> clap::Command {
        Flags::augment_args(cmd)
    }

    fn naming_flags(&self) -> &'static [&'static str] {
        &["--kubernetes"]
    }

    fn tables(&self) -> &'static [&'static str] {
        &["kubernetes"]
    }

    fn check(&self, config: &ConfigText) -> Result<(), ConfigError> {
        config.parse::<Tables>().map(|_| ())
    }

    fn resolve(&self, r: &mut Resolution<'_>) -> Result<(), ResolveError> {
        let mut f = Flags::from_arg_matches(r.matches).map_err(|e| ResolveError::Other(e.to_string()))?;
        let tables: Tables = r.config.parse()?;
        if let Some(k) = tables.kubernetes {
            if !f.kubernetes {
                f.kubernetes = true;
                f.kubeconfig = f.kubeconfig.take().or(k.kubeconfig);
                f.kube_context = f.kube_context.take().or(k.context);
                f.namespace = f.namespace.take().or(k.namespace);
                f.all_namespaces |= k.all_namespaces;
            }
        }
        if f.kubernetes || f.kube_context.is_some() || f.kubeconfig.is_some() {
            r.push(KubeSpec::Live {
                target: Target {
                    kubeconfig: f.kubeconfig,
                    context: f.kube_context,
                    namespace: f.namespace,
                    all_namespaces: f.all_namespaces,
                },
            });
        }
        Ok(())
    }

    fn recognise(&self, rel: &str) -> Option<&'static str> {
        Part::by_layout(rel).map(Part::role)
    }

    fn roles(&self) -> &'static [&'static str] {
        &ROLES
    }

    fn replay(&self, files: Vec<SavedFile>, r: &mut Resolution<'_>) -> Result<(), ResolveError> {
        let first = files.first().map(|f| f.order);
        let mut parts = Vec::new();
        for f in files {
            match Part::from_role(&f.role).or_else(|| Part::by_layout(&f.display)) {
                Some(part) => parts.push((f.path, f.display, part)),
                None => r
                    .warnings
                    .push(format!("bundle file {} is not read: not a file a cluster capture writes", f.display)),
            }
        }
        if let (Some(first), false) = (first, parts.is_empty()) {
            r.push_joined(first, KubeSpec::Files { files: parts });
        }
        Ok(())
    }

    fn blind_spots(&self) -> &'static [(&'static [SourceKind], &'static str)] {
        &[(
            &[SourceKind::Kubernetes],
            "The Kubernetes API keeps Events about an hour by default, and container logs only for pods that still exist (the current and previous run of each container).",
        )]
    }
}

impl Spec for KubeSpec {
    fn kind(&self) -> SourceKind {
        SourceKind::Kubernetes
    }

    fn what(&self) -> String {
        match self {
            KubeSpec::Live { target } => target.describe(),
            KubeSpec::Files { .. } => "saved lists and logs".to_string(),
        }
    }

    fn open(self: Box<Self>, c: &Common) -> Source {
        match *self {
            KubeSpec::Live { target } => Source::Network(Box::new(crate::KubernetesLive {
                target,
                timeout: c.timeout,
                budget: reconstruct_core::HELD_BUDGET,
            })),
            KubeSpec::Files { files } => Source::Blocking(Box::new(crate::KubernetesFiles { files, context: None })),
        }
    }

    fn save(&self, c: &Common, b: &mut dyn Bundle) -> Result<(), String> {
        let KubeSpec::Live { target } = self else { return Err("saved already".to_string()) };
        let rt = runtime().map_err(|e| format!("cannot start the async runtime: {e}"))?;
        let shown = self.describe();
        let mut files: Vec<(Part, String, Vec<u8>)> = Vec::new();
        let mut put = |part: Part, name: &str, bytes: &[u8]| {
            files.push((part, name.to_string(), bytes.to_vec()));
            Ok(())
        };
        let m = b.masker();
        let mut edit = |v: &mut serde_json::Value| m.json(v);
        let mask_line = |l: &[u8]| m.line(l);
        rt.block_on(crate::save(target, &c.window, c.timeout, &mut put, &mut edit, &mask_line))
            .map_err(|e| e.to_string())?;
        for (part, name, bytes) in files {
            b.add(&format!("kubernetes/{name}"), &bytes, part.role(), &shown, Default::default())?;
        }
        Ok(())
    }

    fn is_live(&self) -> bool {
        matches!(self, KubeSpec::Live { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_is_a_role_of_the_slice_and_found_by_its_place() {
        for p in Part::ALL {
            assert!(Kubernetes.roles().contains(&p.role()), "{p:?}");
            assert_eq!(Part::from_role(p.role()), Some(p));
            if let Some(name) = p.file_name() {
                assert_eq!(Kubernetes.recognise(&format!("kubernetes/{name}")), Some(p.role()));
            }
        }
        assert_eq!(Kubernetes.recognise("kubernetes/logs/shop/api-1/api.log"), Some(Part::Log.role()));
        assert_eq!(Kubernetes.recognise("kubernetes/notes.txt"), None, "a stray file is not guessed at");
    }
}
