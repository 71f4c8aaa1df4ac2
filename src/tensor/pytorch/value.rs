//! What the pickle VM builds: small [`Value`]s on its stack, everything larger in one arena
//! ([`Heap`]) addressed by index. An arena, not reference counting, because a hostile pickle
//! can make a list that contains itself: indices cannot leak or recurse on drop, and a walk
//! over the graph keeps a visited set.

use crate::tensor::Dtype;

/// A stack value: scalars inline, anything else an index into [`Arena`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Ref(usize),
}

/// One storage a tensor views: `key` names its `data/<key>` entry (zip) or its place in the
/// raw storage list (legacy).
#[derive(Clone, Debug, PartialEq)]
pub struct StorageRef {
    pub key: String,
    /// `None` for storage types trainwatch does not know (the tensor is skipped, not an error).
    pub dtype: Option<Dtype>,
    /// Elements, as the persistent id says (checked against the bytes later).
    pub numel: u64,
    /// Legacy views of a root storage: element offset into it.
    pub view_offset: u64,
}

/// A tensor as `_rebuild_tensor_v2(storage, offset, size, stride)` describes it (elements).
#[derive(Clone, Debug, PartialEq)]
pub struct TensorRef {
    pub storage: usize,
    pub offset: u64,
    pub size: Vec<u64>,
    pub stride: Vec<u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Heap {
    Str(String),
    Bytes(Vec<u8>),
    /// An integer too large for i64 (little-endian two's complement, as LONG1 holds it).
    BigInt(Vec<u8>),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    Set(Vec<Value>),
    /// A resolved `module.name` that trainwatch knows how to apply (see `globals`).
    Global(Known),
    /// Anything else: an inert placeholder for `module.name`, never called. Applying it
    /// (REDUCE, NEWOBJ) makes an [`Heap::Object`] of that class.
    Class(String),
    /// An inert object: its class name, the state BUILD gave it, and the items
    /// SETITEMS/APPENDS added (dict and list subclasses).
    Object {
        class: String,
        state: Option<Value>,
        items: Vec<(Value, Value)>,
    },
    Storage(StorageRef),
    Tensor(TensorRef),
    /// A `torch.float16`-style dtype object (arguments of newer rebuild functions).
    DtypeObj(Option<Dtype>),
}

/// The globals the VM applies itself; every other allowed or unknown name is inert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Known {
    RebuildTensor,
    RebuildTensorV2,
    RebuildParameter,
    RebuildFromTypeV2,
    OrderedDict,
    Size,
    Set,
    FrozenSet,
    CodecsEncode,
    StorageType(Option<Dtype>),
}

/// Limits, all derived from the input's length (plus absolute caps).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Arena entries plus container elements, in values.
    pub max_values: usize,
    pub max_memo: usize,
    pub max_stack: usize,
}

impl Limits {
    /// A pickle of `len` bytes cannot legitimately make more values than it has opcodes.
    pub fn for_len(len: usize) -> Self {
        let max_values = len.saturating_mul(2).saturating_add(64).min(1 << 28);
        Limits {
            max_values,
            max_memo: len.saturating_add(16).min(1 << 24),
            max_stack: len.saturating_add(16).min(1 << 22),
        }
    }
}

/// The arena, with its allocation budget.
#[derive(Debug, Default)]
pub struct Arena {
    items: Vec<Heap>,
    /// Values allocated so far (entries and container elements).
    spent: usize,
    budget: usize,
}

impl Arena {
    pub fn new(budget: usize) -> Self {
        Arena {
            items: Vec::new(),
            spent: 0,
            budget,
        }
    }

    /// Counts `n` more values against the budget.
    pub fn charge(&mut self, n: usize) -> Result<(), String> {
        self.spent = self.spent.saturating_add(n);
        if self.spent > self.budget {
            return Err(format!(
                "the pickle builds more than {} values (limit from its size)",
                self.budget
            ));
        }
        Ok(())
    }

    pub fn alloc(&mut self, h: Heap) -> Result<Value, String> {
        let weight = 1 + match &h {
            Heap::Str(s) => s.len() / 16,
            Heap::Bytes(b) | Heap::BigInt(b) => b.len() / 16,
            Heap::Tuple(v) | Heap::List(v) | Heap::Set(v) => v.len(),
            Heap::Dict(v) => 2 * v.len(),
            _ => 0,
        };
        self.charge(weight)?;
        self.items.push(h);
        Ok(Value::Ref(self.items.len() - 1))
    }

    /// Every entry, in allocation order.
    pub fn items(&self) -> &[Heap] {
        &self.items
    }

    pub fn get(&self, v: Value) -> Option<&Heap> {
        match v {
            Value::Ref(i) => self.items.get(i),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, v: Value) -> Option<&mut Heap> {
        match v {
            Value::Ref(i) => self.items.get_mut(i),
            _ => None,
        }
    }

    pub fn str(&self, v: Value) -> Option<&str> {
        match self.get(v) {
            Some(Heap::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// A non-negative integer (Python ints and bools).
    pub fn uint(&self, v: Value) -> Option<u64> {
        match v {
            Value::Int(i) => u64::try_from(i).ok(),
            Value::Bool(b) => Some(u64::from(b)),
            _ => None,
        }
    }

    /// The elements of a tuple or list.
    pub fn seq(&self, v: Value) -> Option<&[Value]> {
        match self.get(v) {
            Some(Heap::Tuple(t)) | Some(Heap::List(t)) => Some(t),
            _ => None,
        }
    }

    /// `key` of a dict, of an inert object's items, or of its state (attributes). Keys are
    /// compared as strings. A chain of objects is followed a few levels only (a hostile
    /// object may be its own state).
    pub fn field(&self, v: Value, key: &str) -> Option<Value> {
        let mut v = v;
        for _ in 0..8 {
            match self.get(v)? {
                Heap::Dict(pairs) => return self.lookup(pairs, key),
                Heap::Object { state, items, .. } => {
                    if let Some(found) = self.lookup(items, key) {
                        return Some(found);
                    }
                    v = (*state)?;
                }
                _ => return None,
            }
        }
        None
    }

    fn lookup(&self, pairs: &[(Value, Value)], key: &str) -> Option<Value> {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| self.str(*k) == Some(key))
            .map(|(_, v)| *v)
    }
}
