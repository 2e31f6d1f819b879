package crm

// FieldNameTaken exposes fieldNameTaken to the crm_test package, whose tests
// can open seeded databases (package crm cannot import storetest: seed
// imports crm).
var FieldNameTaken = fieldNameTaken
