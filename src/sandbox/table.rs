//! One table of the sandbox's state, shared between the state before a call and the copy the
//! call works on. Copying a table copies one pointer; changing a row copies that row (and the
//! list of row pointers), so a write costs what it changes, not what the state holds — at
//! 10,000 users a deep copy of the state per write was what made the sandbox, not Zoom's rate
//! limits, the bound of a bulk run. Which rows changed is then a pointer comparison.

use std::ops::{Index, IndexMut};
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub struct Table<T>(Arc<Vec<Arc<T>>>);

impl<T> Clone for Table<T> {
    fn clone(&self) -> Self {
        Table(self.0.clone())
    }
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table(Arc::new(Vec::new()))
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Table<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T> Table<T> {
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator + Clone + '_ {
        self.0.iter().map(|r| &**r)
    }
    pub fn get(&self, i: usize) -> Option<&T> {
        self.0.get(i).map(|r| &**r)
    }
    pub fn first(&self) -> Option<&T> {
        self.get(0)
    }
    pub fn last(&self) -> Option<&T> {
        self.0.last().map(|r| &**r)
    }
    /// The rows as shared pointers: what the store compares to find what a call changed.
    pub fn rows(&self) -> &[Arc<T>] {
        &self.0
    }
    /// Whether `a` and `b` are the same table, untouched by a call.
    pub fn same(a: &Table<T>, b: &Table<T>) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
    fn rows_mut(&mut self) -> &mut Vec<Arc<T>> {
        Arc::make_mut(&mut self.0)
    }
    pub fn push(&mut self, x: T) {
        self.rows_mut().push(Arc::new(x));
    }
    pub fn truncate(&mut self, n: usize) {
        if n < self.len() {
            self.rows_mut().truncate(n);
        }
    }
    pub fn clear(&mut self) {
        if !self.is_empty() {
            self.rows_mut().clear();
        }
    }
    /// Keep the rows `f` accepts; a table where `f` accepts every row is left untouched.
    pub fn retain(&mut self, mut f: impl FnMut(&T) -> bool) {
        let keep: Vec<bool> = self.iter().map(&mut f).collect();
        if keep.iter().all(|k| *k) {
            return;
        }
        let mut it = keep.into_iter();
        self.rows_mut().retain(|_| it.next().unwrap_or(true));
    }
}

impl<T: Clone> Table<T> {
    pub fn pop(&mut self) -> Option<T> {
        if self.is_empty() {
            return None;
        }
        self.rows_mut().pop().map(Arc::unwrap_or_clone)
    }
    pub fn remove(&mut self, i: usize) -> T {
        Arc::unwrap_or_clone(self.rows_mut().remove(i))
    }
    pub fn to_vec(&self) -> Vec<T> {
        self.iter().cloned().collect()
    }
    pub fn reserve(&mut self, n: usize) {
        self.rows_mut().reserve(n);
    }
    pub fn extend(&mut self, xs: impl IntoIterator<Item = T>) {
        let rows = self.rows_mut();
        rows.extend(xs.into_iter().map(Arc::new));
    }
    /// The first row `pred` accepts, to change: only that row is copied.
    pub fn find_mut(&mut self, pred: impl FnMut(&T) -> bool) -> Option<&mut T> {
        let i = self.iter().position(pred)?;
        Some(&mut self[i])
    }
    /// Change every row `pred` accepts: only those rows are copied.
    pub fn update_where(&mut self, mut pred: impl FnMut(&T) -> bool, mut f: impl FnMut(&mut T)) {
        let hits: Vec<usize> = self
            .iter()
            .enumerate()
            .filter(|(_, x)| pred(x))
            .map(|(i, _)| i)
            .collect();
        for i in hits {
            f(&mut self[i]);
        }
    }
}

impl<T> Index<usize> for Table<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        &self.0[i]
    }
}

impl<T: Clone> IndexMut<usize> for Table<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        Arc::make_mut(&mut self.rows_mut()[i])
    }
}

impl<'a, T> IntoIterator for &'a Table<T> {
    type Item = &'a T;
    type IntoIter = std::iter::Map<std::slice::Iter<'a, Arc<T>>, fn(&'a Arc<T>) -> &'a T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|r| &**r)
    }
}

impl<T> FromIterator<T> for Table<T> {
    fn from_iter<I: IntoIterator<Item = T>>(it: I) -> Self {
        Table(Arc::new(it.into_iter().map(Arc::new).collect()))
    }
}

impl<T> From<Vec<T>> for Table<T> {
    fn from(v: Vec<T>) -> Self {
        v.into_iter().collect()
    }
}

impl<T: PartialEq> PartialEq for Table<T> {
    fn eq(&self, other: &Self) -> bool {
        Table::same(self, other)
            || (self.len() == other.len()
                && self
                    .0
                    .iter()
                    .zip(other.0.iter())
                    .all(|(a, b)| Arc::ptr_eq(a, b) || a == b))
    }
}

impl<T: Serialize> Serialize for Table<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Table<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<T>::deserialize(d).map(Table::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_shares_every_row_until_one_is_changed() {
        let a: Table<String> = vec!["x".to_string(), "y".into(), "z".into()].into();
        let mut b = a.clone();
        assert!(Table::same(&a, &b));
        b[1].push('!');
        assert!(!Table::same(&a, &b));
        assert_eq!(a[1], "y");
        assert_eq!(b[1], "y!");
        // Untouched rows are still the same allocation: the store skips them by pointer.
        assert!(Arc::ptr_eq(&a.rows()[0], &b.rows()[0]));
        assert!(!Arc::ptr_eq(&a.rows()[1], &b.rows()[1]));
        assert_ne!(a, b);
    }

    #[test]
    fn retain_that_keeps_everything_leaves_the_table_untouched() {
        let a: Table<i32> = vec![1, 2, 3].into();
        let mut b = a.clone();
        b.retain(|x| *x > 0);
        assert!(Table::same(&a, &b));
        b.retain(|x| *x != 2);
        assert_eq!(b.iter().copied().collect::<Vec<_>>(), vec![1, 3]);
        assert_eq!(a.len(), 3);
    }

    #[test]
    fn find_mut_and_update_where_copy_only_the_rows_they_change() {
        let a: Table<i32> = vec![1, 2, 3, 4].into();
        let mut b = a.clone();
        *b.find_mut(|x| *x == 3).unwrap() = 31;
        b.update_where(|x| *x % 2 == 0, |x| *x += 100);
        assert_eq!(b.iter().copied().collect::<Vec<_>>(), vec![1, 102, 31, 104]);
        assert!(Arc::ptr_eq(&a.rows()[0], &b.rows()[0]));
        assert_eq!(serde_json::to_string(&b).unwrap(), "[1,102,31,104]");
        let c: Table<i32> = serde_json::from_str("[1,102,31,104]").unwrap();
        assert_eq!(b, c);
    }
}
