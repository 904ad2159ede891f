{
  "schema": 1,
  "algorithm": "ed25519",
  "key_id": "98a08e5cfa4cb851",
  "signature": "w6KCoSqQyi5jzZtndmrbk682ivn5TrrEuVHdZodWxvz6d3E9ohqRaBDNZwR3i+4s6TfvjMSuRVJWfb7yFEAVDw=="
}
