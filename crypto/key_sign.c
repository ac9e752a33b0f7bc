/* placeholder: written by the crypto work in progress */
