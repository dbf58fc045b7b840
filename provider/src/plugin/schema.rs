//! Schema types: the shape of the provider block, resources and identities.
//!
//! One schema definition (built in `resources`) serves GetProviderSchema, the value codec
//! (through [`Block::value_type`]) and the generated registry docs.

use super::value::Type;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

#[derive(Clone, Debug, Default)]
pub struct Block {
    pub description: String,
    pub attributes: Vec<Attribute>,
    pub deprecated: bool,
}

#[derive(Clone, Debug)]
pub enum AttrKind {
    /// A plain attribute of a Terraform type.
    Typed(Type),
    /// A protocol-6 nested attribute (`nested_type`), e.g. `autoscale = { enabled = true }`.
    Nested(Nesting, Vec<Attribute>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
    Map,
}

#[derive(Clone, Debug)]
pub struct Attribute {
    pub name: String,
    pub kind: AttrKind,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    /// Write-only (protocol 6.8+): sent in config, never stored in plan or state.
    pub write_only: bool,
    pub deprecated: bool,
}

impl Attribute {
    fn new(name: &str, kind: AttrKind, description: &str) -> Self {
        Attribute {
            name: name.to_string(),
            kind,
            description: description.to_string(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            deprecated: false,
        }
    }
    pub fn typed(name: &str, ty: Type, description: &str) -> Self {
        Self::new(name, AttrKind::Typed(ty), description)
    }
    pub fn nested(name: &str, nesting: Nesting, attrs: Vec<Attribute>, description: &str) -> Self {
        Self::new(name, AttrKind::Nested(nesting, attrs), description)
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }

    /// The value type of this attribute on the wire.
    pub fn value_type(&self) -> Type {
        match &self.kind {
            AttrKind::Typed(t) => t.clone(),
            AttrKind::Nested(nesting, attrs) => {
                let obj = object_type(attrs);
                match nesting {
                    Nesting::Single => obj,
                    Nesting::List => Type::list(obj),
                    Nesting::Set => Type::set(obj),
                    Nesting::Map => Type::map(obj),
                }
            }
        }
    }
}

fn object_type(attrs: &[Attribute]) -> Type {
    Type::Object(
        attrs
            .iter()
            .map(|a| (a.name.clone(), a.value_type()))
            .collect::<BTreeMap<_, _>>(),
    )
}

impl Block {
    /// The object type of a whole configuration/state value of this block.
    pub fn value_type(&self) -> Type {
        object_type(&self.attributes)
    }
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

/// Resource identity schema (protocol 6.9+): the attributes that identify a remote object.
#[derive(Clone, Debug)]
pub struct IdentitySchema {
    pub version: i64,
    pub attributes: Vec<IdentityAttribute>,
}

#[derive(Clone, Debug)]
pub struct IdentityAttribute {
    pub name: String,
    pub ty: Type,
    pub description: String,
    pub required_for_import: bool,
    pub optional_for_import: bool,
}

impl IdentitySchema {
    pub fn value_type(&self) -> Type {
        Type::Object(
            self.attributes
                .iter()
                .map(|a| (a.name.clone(), a.ty.clone()))
                .collect(),
        )
    }
}
