//! A pickle VM that builds data and never runs anything: the opcodes of protocols 0–5 that
//! torch's pickles use, `GLOBAL`s resolved through [`super::globals`] only, and
//! persistent ids read as storages. No opcode loops or recurses, every value is counted
//! against a budget derived from the input's length, and every read is bounds-checked: a
//! hostile pickle is an error, never a hang, an allocation bomb or a panic.

use std::collections::HashMap;

use super::globals;
use super::input::Input;
use super::literals;
use super::value::{Arena, Heap, Limits, Value};

/// Why a pickle was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickleError {
    /// It names something that would run code (the reason names it).
    Refused(String),
    /// Malformed, truncated or over a limit.
    Corrupt(String),
}

impl From<String> for PickleError {
    fn from(s: String) -> Self {
        PickleError::Corrupt(s)
    }
}

impl From<&str> for PickleError {
    fn from(s: &str) -> Self {
        PickleError::Corrupt(s.to_string())
    }
}

/// The result of one pickle: its object graph, the root object and where the pickle ended.
#[derive(Debug)]
pub struct Unpickled {
    pub arena: Arena,
    pub root: Value,
    pub end: usize,
}

/// Runs the pickle that starts at `data[start]`.
pub fn unpickle(data: &[u8], start: usize) -> Result<Unpickled, PickleError> {
    let limits = Limits::for_len(data.len().saturating_sub(start));
    let mut vm = Vm {
        input: Input { data, pos: start },
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        arena: Arena::new(limits.max_values),
        limits,
    };
    let root = vm.run()?;
    Ok(Unpickled {
        arena: vm.arena,
        root,
        end: vm.input.pos,
    })
}

pub(super) struct Vm<'a> {
    pub(super) input: Input<'a>,
    pub(super) stack: Vec<Value>,
    pub(super) marks: Vec<usize>,
    pub(super) memo: HashMap<u32, Value>,
    pub(super) arena: Arena,
    pub(super) limits: Limits,
}

pub(super) type Step = Result<(), PickleError>;

impl Vm<'_> {
    fn run(&mut self) -> Result<Value, PickleError> {
        loop {
            let op = self.input.take(1)?[0];
            if op == b'.' {
                return self.pop();
            }
            self.op(op)?;
            if self.stack.len() > self.limits.max_stack || self.marks.len() > self.limits.max_stack
            {
                return Err("the pickle's stack is deeper than its size allows".into());
            }
        }
    }

    pub(super) fn push(&mut self, v: Value) -> Step {
        self.stack.push(v);
        Ok(())
    }

    pub(super) fn alloc(&mut self, h: Heap) -> Step {
        let v = self.arena.alloc(h)?;
        self.push(v)
    }

    fn pop(&mut self) -> Result<Value, PickleError> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err("the pickle pops an empty stack".into());
        }
        self.stack
            .pop()
            .ok_or_else(|| "the pickle pops an empty stack".into())
    }

    fn top(&self) -> Result<Value, PickleError> {
        self.stack
            .last()
            .copied()
            .ok_or_else(|| "the pickle reads an empty stack".into())
    }

    fn pop_mark(&mut self) -> Result<Vec<Value>, PickleError> {
        let m = self.marks.pop().ok_or("the pickle has no MARK to pop to")?;
        Ok(self.stack.split_off(m.min(self.stack.len())))
    }

    fn memo_get(&mut self, key: u64) -> Step {
        let v = u32::try_from(key)
            .ok()
            .and_then(|k| self.memo.get(&k).copied())
            .ok_or_else(|| {
                format!("the pickle refers to memo entry {key}, which was never stored")
            })?;
        self.push(v)
    }

    fn memo_put(&mut self, key: u64) -> Step {
        let key = u32::try_from(key).map_err(|_| format!("memo key {key} is too large"))?;
        let v = self.top()?;
        if self.memo.insert(key, v).is_none() && self.memo.len() > self.limits.max_memo {
            return Err("the pickle's memo is larger than its size allows".into());
        }
        self.arena.charge(1)?;
        Ok(())
    }

    fn global(&mut self, module: &str, name: &str) -> Step {
        let h = globals::resolve(module, name).map_err(PickleError::Refused)?;
        self.alloc(h)
    }

    /// REDUCE / NEWOBJ: known globals are applied; anything else gives an inert object.
    fn call(&mut self, callable: Value, args: Value) -> Step {
        let v = match self.arena.get(callable) {
            Some(Heap::Global(k)) => {
                let k = *k;
                globals::apply(&mut self.arena, k, args)?
            }
            Some(Heap::Class(c)) => {
                let c = c.clone();
                globals::inert(&mut self.arena, &c)?
            }
            Some(Heap::Object { class, .. }) => {
                let c = format!("{class}(…)");
                globals::inert(&mut self.arena, &c)?
            }
            _ => return Err("the pickle calls something that is not a class or function".into()),
        };
        self.push(v)
    }

    fn add_items(&mut self, target: Value, items: Vec<Value>, pairs: bool) -> Step {
        self.arena.charge(items.len())?;
        let what = if pairs { "SETITEMS" } else { "APPENDS" };
        let heap = self
            .arena
            .get_mut(target)
            .ok_or_else(|| PickleError::Corrupt(format!("{what} on a scalar")))?;
        match (heap, pairs) {
            (Heap::List(l), false) | (Heap::Set(l), false) => l.extend(items),
            (Heap::Dict(d), true) => {
                if !items.len().is_multiple_of(2) {
                    return Err("SETITEMS with an odd number of values".into());
                }
                d.extend(items.chunks_exact(2).map(|kv| (kv[0], kv[1])));
            }
            (Heap::Object { items: o, .. }, true) => {
                o.extend(items.chunks_exact(2).map(|kv| (kv[0], kv[1])));
            }
            (Heap::Object { items: o, .. }, false) => {
                let base = o.len() as i64;
                o.extend(
                    items
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| (Value::Int(base + i as i64), v)),
                );
            }
            _ => return Err(format!("{what} on a value that is not a container").into()),
        }
        Ok(())
    }

    fn op(&mut self, op: u8) -> Step {
        if literals::is_literal(op) {
            return self.literal(op);
        }
        match op {
            0x80 => {
                let p = self.input.take(1)?[0];
                if p > 5 {
                    return Err(format!("pickle protocol {p} is newer than 5").into());
                }
                Ok(())
            }
            0x95 => self.input.take(8).map(|_| ()),
            b'(' => {
                self.marks.push(self.stack.len());
                Ok(())
            }
            b'0' => self.pop().map(|_| ()),
            b'1' => self.pop_mark().map(|_| ()),
            b'2' => {
                let v = self.top()?;
                self.push(v)
            }
            b'N' => self.push(Value::None),
            0x88 => self.push(Value::Bool(true)),
            0x89 => self.push(Value::Bool(false)),
            b']' => self.alloc(Heap::List(Vec::new())),
            b')' => self.alloc(Heap::Tuple(Vec::new())),
            b'}' => self.alloc(Heap::Dict(Vec::new())),
            0x8f => self.alloc(Heap::Set(Vec::new())),
            b'l' => {
                let items = self.pop_mark()?;
                self.alloc(Heap::List(items))
            }
            b't' => {
                let items = self.pop_mark()?;
                self.alloc(Heap::Tuple(items))
            }
            0x91 => {
                let items = self.pop_mark()?;
                self.alloc(Heap::Set(items))
            }
            0x85..=0x87 => {
                let n = usize::from(op - 0x84);
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.pop()?);
                }
                items.reverse();
                self.alloc(Heap::Tuple(items))
            }
            b'd' => {
                let items = self.pop_mark()?;
                if items.len() % 2 != 0 {
                    return Err("DICT with an odd number of values".into());
                }
                let pairs = items.chunks_exact(2).map(|kv| (kv[0], kv[1])).collect();
                self.alloc(Heap::Dict(pairs))
            }
            b'a' => {
                let v = self.pop()?;
                let target = self.top()?;
                self.add_items(target, vec![v], false)
            }
            b'e' | 0x90 => {
                let items = self.pop_mark()?;
                let target = self.top()?;
                self.add_items(target, items, false)
            }
            b's' => {
                let v = self.pop()?;
                let k = self.pop()?;
                let target = self.top()?;
                self.add_items(target, vec![k, v], true)
            }
            b'u' => {
                let items = self.pop_mark()?;
                let target = self.top()?;
                self.add_items(target, items, true)
            }
            b'g' => {
                let k = self.input.line_str()?;
                self.memo_get(k.trim().parse().map_err(|_| "a bad GET")?)
            }
            b'h' => {
                let k = self.input.uint(1)?;
                self.memo_get(k)
            }
            b'j' => {
                let k = self.input.uint(4)?;
                self.memo_get(k)
            }
            b'p' => {
                let k = self.input.line_str()?;
                self.memo_put(k.trim().parse().map_err(|_| "a bad PUT")?)
            }
            b'q' => {
                let k = self.input.uint(1)?;
                self.memo_put(k)
            }
            b'r' => {
                let k = self.input.uint(4)?;
                self.memo_put(k)
            }
            0x94 => self.memo_put(self.memo.len() as u64),
            b'c' | b'i' => {
                let module = self.input.line_str()?;
                let name = self.input.line_str()?;
                self.global(&module, &name)?;
                if op == b'i' {
                    let class = self.pop()?;
                    let args = self.pop_mark()?;
                    let args = self.arena.alloc(Heap::Tuple(args))?;
                    self.call(class, args)?;
                }
                Ok(())
            }
            0x93 => {
                let name = self.pop()?;
                let module = self.pop()?;
                let (Some(m), Some(n)) = (self.arena.str(module), self.arena.str(name)) else {
                    return Err("STACK_GLOBAL of a non-string".into());
                };
                let (m, n) = (m.to_string(), n.to_string());
                self.global(&m, &n)
            }
            b'R' | 0x81 => {
                let args = self.pop()?;
                let callable = self.pop()?;
                self.call(callable, args)
            }
            0x92 => {
                let _kwargs = self.pop()?;
                let args = self.pop()?;
                let callable = self.pop()?;
                self.call(callable, args)
            }
            b'o' => {
                let mut items = self.pop_mark()?;
                if items.is_empty() {
                    return Err("OBJ without a class".into());
                }
                let class = items.remove(0);
                let args = self.arena.alloc(Heap::Tuple(items))?;
                self.call(class, args)
            }
            b'b' => {
                let state = self.pop()?;
                let target = self.top()?;
                if let Some(Heap::Object { state: s, .. }) = self.arena.get_mut(target) {
                    *s = Some(state);
                }
                // Dicts (an OrderedDict's `_metadata`), tensors (a Parameter's state): the
                // state is not needed to read the tensors.
                Ok(())
            }
            b'Q' => {
                let pid = self.pop()?;
                let v = globals::persistent_storage(&mut self.arena, pid)?;
                self.push(v)
            }
            b'P' => Err("a text persistent id (protocol 0) is not a torch storage".into()),
            0x82..=0x84 => Err("the pickle uses the copyreg extension registry".into()),
            0x97 | 0x98 => Err("the pickle uses out-of-band buffers".into()),
            _ => Err(format!(
                "unknown pickle opcode 0x{op:02x} at byte {}",
                self.input.pos - 1
            )
            .into()),
        }
    }
}
