//! Appends nodes and initializers to an ONNX graph under fresh, readable names.

use super::proto::{AttributeProto, NodeProto, TensorProto, attribute_proto::AttributeType};

/// A graph under construction: nodes in execution order and the constants they read.
#[derive(Debug, Default)]
pub struct GraphBuilder {
    /// Nodes, topologically ordered.
    pub nodes: Vec<NodeProto>,
    /// Constant tensors.
    pub initializers: Vec<TensorProto>,
    used: std::collections::HashSet<String>,
}

/// A node attribute.
pub enum Attr<'a> {
    /// One integer.
    Int(&'a str, i64),
    /// A list of integers.
    Ints(&'a str, Vec<i64>),
    /// A string.
    Str(&'a str, &'a str),
}

impl Attr<'_> {
    fn proto(&self) -> AttributeProto {
        let mut a = AttributeProto::default();
        match self {
            Attr::Int(n, v) => {
                a.name = Some(n.to_string());
                a.r#type = Some(AttributeType::Int as i32);
                a.i = Some(*v);
            }
            Attr::Ints(n, v) => {
                a.name = Some(n.to_string());
                a.r#type = Some(AttributeType::Ints as i32);
                a.ints = v.clone();
            }
            Attr::Str(n, v) => {
                a.name = Some(n.to_string());
                a.r#type = Some(AttributeType::String as i32);
                a.s = Some(v.as_bytes().to_vec());
            }
        }
        a
    }
}

impl GraphBuilder {
    /// A name starting with `hint` that no other value or node of the graph has.
    pub fn fresh(&mut self, hint: &str) -> String {
        let mut name = hint.to_string();
        let mut k = 1;
        while self.used.contains(&name) {
            name = format!("{hint}_{k}");
            k += 1;
        }
        self.used.insert(name.clone());
        name
    }

    /// Reserves `name` exactly (the graph's input and output).
    pub fn reserve(&mut self, name: &str) {
        self.used.insert(name.to_string());
    }

    /// Adds an initializer built by `make` under a fresh name from `hint`; returns the name.
    pub fn constant(&mut self, hint: &str, make: impl FnOnce(&str) -> TensorProto) -> String {
        let name = self.fresh(hint);
        self.initializers.push(make(&name));
        name
    }

    /// Adds one `op` node reading `inputs` (an empty string skips an optional input) and
    /// writing one fresh output named from `hint`; returns the output's name.
    pub fn op(&mut self, op: &str, inputs: &[&str], attrs: &[Attr<'_>], hint: &str) -> String {
        let out = self.fresh(hint);
        self.op_into(op, inputs, attrs, &out);
        out
    }

    /// [`op`](Self::op) writing to the given output name.
    pub fn op_into(&mut self, op: &str, inputs: &[&str], attrs: &[Attr<'_>], out: &str) {
        let name = self.fresh(&format!("{out}/{op}"));
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![out.to_string()],
            name: Some(name),
            op_type: Some(op.to_string()),
            attribute: attrs.iter().map(Attr::proto).collect(),
            ..Default::default()
        });
    }
}
